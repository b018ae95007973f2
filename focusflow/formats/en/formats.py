"""How dates and times read wherever Django formats them (the admin above all): ISO-like, to
the second, with the zone, so a time is never ambiguous and sorts as it reads. Input formats
are still Django's English ones, which accept these."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
# The admin's date drill-down links (a month of a year, a day of a month), ISO-like too.
YEAR_MONTH_FORMAT = "Y-m"
MONTH_DAY_FORMAT = "Y-m-d"
