"""The exclusion constraint of migration 0004, now declared in the model (`FocusSession.Meta`).
State only: the constraint 0004 made is already exactly the model's (same name, same SQL), and
building it again would lock the sessions table while its GiST index is rebuilt."""

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
        migrations.SeparateDatabaseAndState(
            state_operations=[
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
            ],
        ),
    ]
