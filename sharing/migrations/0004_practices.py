"""Practices and their members, and a grant's `practice`: a share to a practice instead of one
clinician. Existing grants keep `practice` NULL and stay what they were, grants to one clinician."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('sharing', '0003_accesslog_delete_guard'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Practice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('uuid', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('name', models.CharField(max_length=120)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ],
            options={
                'ordering': ['name', 'id'],
            },
        ),
        migrations.CreateModel(
            name='PracticeMembership',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('role', models.CharField(choices=[('member', 'Member'), ('admin', 'Admin')], default='member', max_length=8)),
                ('added_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
            ],
        ),
        migrations.AddField(
            model_name='grant',
            name='practice',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='grants', to='sharing.practice'),
        ),
        migrations.AddIndex(
            model_name='grant',
            index=models.Index(condition=models.Q(('practice__isnull', False)), fields=['practice', 'expires_at'], name='grant_practice_open'),
        ),
        migrations.AddConstraint(
            model_name='grant',
            constraint=models.CheckConstraint(condition=models.Q(('clinician__isnull', True), ('practice__isnull', True), _connector='OR'), name='grant_to_clinician_or_practice'),
        ),
        migrations.AddConstraint(
            model_name='grant',
            constraint=models.CheckConstraint(condition=models.Q(('practice__isnull', True), ('accepted_at__isnull', False), _connector='OR'), name='grant_practice_only_once_accepted'),
        ),
        migrations.AddConstraint(
            model_name='grant',
            constraint=models.UniqueConstraint(condition=models.Q(('practice__isnull', False), ('revoked_at__isnull', True)), fields=('patient', 'practice'), name='one_open_grant_per_patient_and_practice'),
        ),
        migrations.AddField(
            model_name='practicemembership',
            name='practice',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='sharing.practice'),
        ),
        migrations.AddField(
            model_name='practicemembership',
            name='user',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='practice_memberships', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='practicemembership',
            constraint=models.UniqueConstraint(fields=('practice', 'user'), name='one_membership_per_practice_and_user'),
        ),
    ]
