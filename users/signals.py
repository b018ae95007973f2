"""What other apps may want to hear about an account, without users/ importing them."""

from django.dispatch import Signal

# Sent with `user` inside the transaction that changed the user's time zone: whatever is kept
# per local day (the stats rollup) is rebuilt before it commits.
time_zone_changed = Signal()

# Sent with `user` inside the transaction that changed the profile's `daily_goal_minutes`
# (the user's row lock held): the goal it stands for follows before it commits.
daily_goal_changed = Signal()
