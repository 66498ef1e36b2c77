"""The shared parts of a diary as a zip of CSV files, in the diary's own export format
(diary.exporter), minus what the grant leaves out: tables outside its scope, and
the notes column unless notes were shared."""

import io
import zipfile

from diary import exporter

from .models import Grant

TABLE_SCOPES = {
    "episodes.csv": "episodes_checkins",
    "checkins.csv": "episodes_checkins",
    "medications.csv": "medications",
    "dose_changes.csv": "medications",
}


def csv_zip(grant: Grant) -> bytes:
    patient = grant.patient
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, scope in TABLE_SCOPES.items():
            if not getattr(grant, scope):
                continue
            columns = [c for c in exporter.TABLES[name][0] if grant.notes or c != "notes"]
            rows = [{c: row[c] for c in columns} for row in exporter.table_rows(patient, name)]
            archive.writestr(name, exporter.csv_text(columns, rows))
    return buffer.getvalue()
