"""The pages for people: server-rendered HTML over the same services as the API.

Every journey works without JavaScript (forms post, uploads work); the one script only adds comfort
(a preview before sending, upload progress, the time-out warning).
"""

from web.pages import activity, copies, deposits, enrolment, help, papers, public, settings, sign_in  # noqa: F401 - registers the pages
from web.pages import leaving, organisations, recoveries, recovery, shares, work, work_shares  # noqa: F401 - registers the pages
from web.pages.registry import blueprint

__all__ = ["blueprint"]
