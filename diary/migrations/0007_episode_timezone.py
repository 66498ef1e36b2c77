"""Each episode keeps the zone its night was lived in (Episode.timezone).

Existing rows get their owner's current profile zone: that is the zone their stored nights
were computed in (a change of profile zone used to re-compute every night), so no night moves.
"""

import diary.models
from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def zone_of_the_stored_nights(apps, schema_editor):
    Episode = apps.get_model("diary", "Episode")
    Profile = apps.get_model("diary", "Profile")
    profile_zone = Profile.objects.filter(user_id=OuterRef("user_id")).values("timezone")[:1]
    Episode.objects.update(timezone=Coalesce(Subquery(profile_zone), Value("UTC")))


class Migration(migrations.Migration):
    dependencies = [
        ("diary", "0006_plain_diary_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="episode",
            name="timezone",
            field=models.CharField(default="UTC", max_length=64, validators=[diary.models.validate_zone]),
            preserve_default=False,
        ),
        migrations.RunPython(zone_of_the_stored_nights, migrations.RunPython.noop),
    ]
