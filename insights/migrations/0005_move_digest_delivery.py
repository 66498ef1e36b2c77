# The weekly email's delivery rows moved to the notifications app. The table is kept, with its rows:
# insights forgets the model here and notifications.0001 adopts and renames the table.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0004_digest_kind_bounced"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="DigestDelivery")]),
    ]
