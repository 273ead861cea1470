"""How dates and times read in the English interface: day first, month named, 24-hour clock.

A team in Madrid reads it beside the Spanish interface, so the day comes first and the month
is spelled out: "2 Dec 2026, 14:05" cannot be misread as 12 February.
"""

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
