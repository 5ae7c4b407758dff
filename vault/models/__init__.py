"""Database models, one module per feature.

What is stored in clear is only what the server needs to work: usernames, public keys, document kinds,
sizes and dates (quotas, reminders, requests), who may see what and until when. Everything a person
writes (titles, file names) and every secret key is ciphertext here. The schema is built by Alembic
migrations (``vault/migrations``); a test checks that these models and the migrations never drift apart.
Tables that point at blobs are listed once, in ``vault.blobs``.
"""

from vault.models.base import NAMING, Base, UTCDateTime, new_id
from vault.models.accounts import Account, FailedSignInBurst, RecoveryCode, Session, Throttle
from vault.models.organisations import Follow, Invitation, Membership, Organisation, Purpose
from vault.models.documents import Document
from vault.models.consent import AccessRequest, ClosedShare, Share, SharedDocument
from vault.models.duplicates import Duplicate
from vault.models.recovery import AssistedRecovery, AssistedRecoverySeal, OrganisationKeySeal
from vault.models.events import Event, EventChain

__all__ = ["NAMING", "AccessRequest", "Account", "AssistedRecovery", "AssistedRecoverySeal", "Base", "ClosedShare",
           "Document", "Duplicate", "Event", "EventChain", "FailedSignInBurst", "Follow", "Invitation", "Membership",
           "Organisation", "OrganisationKeySeal", "Purpose", "RecoveryCode", "Session", "Share", "SharedDocument",
           "Throttle", "UTCDateTime", "new_id"]
