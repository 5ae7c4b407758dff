"""``consigne organisation list | invite | staff | deactivate``: the operator's hand on organisations.

For the day an organisation's admins are all gone, or a new organisation needs its first people, without
the web pages. The operator acts through the same services and policies as an admin
(``vault.policies.may_administer_staff``); every line printed is JSON, and a one-time code is printed once.
"""

from __future__ import annotations

import json
import sys
from argparse import Namespace
from datetime import datetime, timezone

from sqlalchemy import func, select

from vault.db import make_engine, make_session_factory, require_current_schema
from vault.errors import VaultError
from vault.keys import KeyConfig
from vault.models import Account, Follow, Membership, Organisation
from vault.organisations import deactivate_staff, invite, list_staff
from vault.policies import Actor, Role


def run_organisation_command(settings, arguments: Namespace, out=None) -> int:
    out = out or sys.stdout
    engine = make_engine(settings.database_url)
    require_current_schema(engine)
    keys = KeyConfig(peppers=settings.peppers, app_keys=settings.app_keys, password_kdf=settings.kdf)
    now = datetime.now(timezone.utc)
    operator = Actor.operator()
    with make_session_factory(engine)() as session:
        try:
            if arguments.organisation_command == "list":
                for line in _organisations(session):
                    print(json.dumps(line), file=out)
                return 0
            if arguments.organisation_command == "invite":
                issued = invite(session, actor=operator, keys=keys, organisation_id=arguments.organisation_id,
                                role=arguments.role, now=now)
                session.commit()
                print(json.dumps({"organisation": issued.organisation_id, "role": issued.role.value,
                                  "code": issued.code, "valid_until": issued.expires_at.isoformat()}), file=out)
                print("the code is shown once: the new staff member joins at /staff/join with it", file=sys.stderr)
                return 0
            if arguments.organisation_command == "staff":
                for member in list_staff(session, actor=operator, organisation_id=arguments.organisation_id):
                    print(json.dumps({"id": member.id, "username": member.username, "name": member.name,
                                      "role": member.role.value, "active": member.active,
                                      "joined_at": member.joined_at.isoformat(),
                                      "ended_at": member.ended_at.isoformat() if member.ended_at else None}), file=out)
                return 0
            if arguments.organisation_command == "deactivate":
                staff_id = session.scalar(select(Account.id).where(Account.username == arguments.username.strip().lower()))
                ended = deactivate_staff(session, actor=operator, organisation_id=arguments.organisation_id,
                                         staff_id=staff_id, now=now)
                session.commit()
                print(json.dumps({"deactivated": arguments.username, "shares_ended": ended}), file=out)
                return 0
        except VaultError as error:
            session.rollback()
            print(f"consigne: {error.code}: {error}", file=sys.stderr)
            return 2
    return 2


def _organisations(session) -> list[dict]:
    def per_organisation(query) -> dict[str, int]:
        return dict(session.execute(query).all())

    active = Membership.ended_at.is_(None)
    staff = per_organisation(select(Membership.organisation_id, func.count()).where(active)
                             .group_by(Membership.organisation_id))
    admins = per_organisation(select(Membership.organisation_id, func.count())
                              .where(active, Membership.role == Role.ADMIN.value).group_by(Membership.organisation_id))
    followers = per_organisation(select(Follow.organisation_id, func.count()).where(Follow.ended_at.is_(None))
                                 .group_by(Follow.organisation_id))
    return [{"id": organisation.id, "name": organisation.name, "created_at": organisation.created_at.isoformat(),
             "staff": staff.get(organisation.id, 0), "admins": admins.get(organisation.id, 0),
             "followers": followers.get(organisation.id, 0),
             "assisted_recovery_key": organisation.recovery_public_key is not None}
            for organisation in session.scalars(select(Organisation).order_by(Organisation.name, Organisation.id))]


__all__ = ["run_organisation_command"]
