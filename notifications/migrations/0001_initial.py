# Adopts the weekly email's delivery table from insights (insights.0005) with its rows, then gives it
# this app's name.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("insights", "0005_move_digest_delivery"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
        migrations.CreateModel(
            name='DigestDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('week_start', models.DateField(help_text='local Monday of the week covered')),
                ('status', models.CharField(choices=[('pending', 'Waiting to be sent'), ('sending', 'Being sent'), ('sent', 'Sent'), ('failed', 'Failed, will retry'), ('abandoned', 'Gave up after repeated failures'), ('bounced', 'Address refused for good; no more emails to it'), ('skipped', 'Not sent: opted out since, or a week before the diary began')], default='pending', max_length=10)),
                ('attempts', models.PositiveSmallIntegerField(default=0)),
                ('next_attempt_at', models.DateTimeField()),
                ('claimed_at', models.DateTimeField(blank=True, null=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('tip_id', models.CharField(blank=True, help_text='the rotating tip sent, so the next week differs', max_length=64)),
                ('kind', models.CharField(blank=True, choices=[('welcome', "Welcome: the diary's first week"), ('week', 'The week in numbers'), ('missed', 'Nothing logged this week'), ('paused', 'Nothing logged again: the last one until the diary changes')], help_text='which email was sent', max_length=8)),
                ('last_error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='digests', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-week_start'],
                'indexes': [models.Index(fields=['status', 'next_attempt_at'], name='digest_status_next_attempt')],
                'constraints': [models.UniqueConstraint(fields=('user', 'week_start'), name='one_digest_per_user_and_week')],
                'db_table': 'insights_digestdelivery',
            },
        ),
            ]
        ),
        migrations.AlterModelTable(name="digestdelivery", table=None),
    ]
