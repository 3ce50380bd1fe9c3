"""Where members worked abroad and in what: the fixed lists behind the form and the report.

Values are stored in English and shown translated, so that the funder report counts
"Hong Kong" once however people would have spelled it.
"""

from flask_babel import lazy_gettext as _l

OTHER = "Other"

COUNTRY_LABELS = {
    "Hong Kong": _l("Hong Kong"),
    "Taiwan": _l("Taiwan"),
    "Malaysia": _l("Malaysia"),
    "Singapore": _l("Singapore"),
    "Saudi Arabia": _l("Saudi Arabia"),
    "South Korea": _l("South Korea"),
    "Brunei": _l("Brunei"),
    "Japan": _l("Japan"),
    "United Arab Emirates": _l("United Arab Emirates"),
    "Qatar": _l("Qatar"),
    "Kuwait": _l("Kuwait"),
    "Oman": _l("Oman"),
    OTHER: _l("Other country"),
}
SECTOR_LABELS = {
    "Domestic work": _l("Domestic work"),
    "Caregiving": _l("Caregiving"),
    "Factory": _l("Factory"),
    "Plantation": _l("Plantation"),
    "Construction": _l("Construction"),
    "Fishing": _l("Fishing"),
    "Agriculture": _l("Agriculture"),
    "Hospitality": _l("Hospitality"),
    OTHER: _l("Other work"),
}
