"""The exclusion constraint of migration 0004, now declared in the model (`FocusSession.Meta`):
the constraint 0004 wrote by hand is dropped and the model's own, the same rule, is added in
its place, in one transaction."""

import django.contrib.postgres.constraints
import django.contrib.postgres.fields.ranges
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models

import focus_sessions.models


class Migration(migrations.Migration):
    dependencies = [
        ("focus_sessions", "0005_stats_rollup"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            'ALTER TABLE "focus_sessions_focussession" DROP CONSTRAINT "session_no_overlap"',
            reverse_sql=(
                'ALTER TABLE "focus_sessions_focussession" ADD CONSTRAINT "session_no_overlap" EXCLUDE USING gist '
                "(user_id WITH =, tstzrange(start_time, COALESCE(end_time, 'infinity'::timestamptz), '[)') WITH &&)"
            ),
        ),
        migrations.AddConstraint(
            model_name="focussession",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                expressions=[
                    ("user", "="),
                    (
                        focus_sessions.models.TsTzRange(
                            "start_time",
                            django.db.models.functions.comparison.Coalesce(
                                "end_time",
                                django.db.models.functions.comparison.Cast(
                                    models.Value("infinity"), models.DateTimeField()
                                ),
                            ),
                            django.contrib.postgres.fields.ranges.RangeBoundary(),
                        ),
                        "&&",
                    ),
                ],
                name="session_no_overlap",
                violation_error_message="This session overlaps another session of the same user.",
            ),
        ),
    ]
