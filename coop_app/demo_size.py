"""The size of a district-scale demo: how many members, how many years of history."""

from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from coop_app.members.demo import DEMO_TODAY

#: Bounds of `flask seed-demo --members/--years`.
MIN_MEMBERS, MIN_YEARS, MAX_YEARS = 1, 1, 10
#: The demo of Wonosobo's span: its members join from January 2018, eight years and ten
#: months before DEMO_TODAY, so a district whose years are not given gets nine.
DEFAULT_YEARS = 9


@dataclass(frozen=True)
class DemoSize:
    """Members to register and years of history before DEMO_TODAY (each feature's demo step
    takes it and sizes its own history by it)."""

    members: int
    years: int

    def __post_init__(self):
        if self.members < MIN_MEMBERS:
            raise ValueError(f"a district has at least {MIN_MEMBERS} member")
        if not MIN_YEARS <= self.years <= MAX_YEARS:
            raise ValueError(f"the history is {MIN_YEARS} to {MAX_YEARS} years long")

    @property
    def first_day(self) -> date:
        """The first day of the history: `years` before DEMO_TODAY."""
        return DEMO_TODAY - relativedelta(years=self.years)
