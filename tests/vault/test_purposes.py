"""Purposes: only presets (or "other" with words), only those the organisation registered."""

import pytest

from tests.factories import make_staff
from vault.errors import InvalidInput, PurposeNotRegistered
from vault.models import Membership
from vault.purposes import PurposeChoice, check_purpose_choice, registered_purposes, replace_purposes, require_registered


def test_a_purpose_is_a_preset_or_other_with_words():
    assert check_purpose_choice("caf_rsa") == PurposeChoice("caf_rsa")
    assert check_purpose_choice("other", "  Dossier   MDPH ") == PurposeChoice("other", "Dossier MDPH")
    for code, text in [("rsa", None), (7, None), ("other", None), ("other", "   "), ("other", "x" * 201)]:
        with pytest.raises(InvalidInput):
            check_purpose_choice(code, text)


def test_only_registered_purposes_pass_and_replacing_keeps_exactly_the_new_list(services):
    staff = make_staff(services, "admin.lilas", role="admin", signed_in=False)
    with services.transaction() as uow:
        organisation_id = uow.session.query(Membership).filter_by(account_id=staff.id).one().organisation_id
        kept = replace_purposes(uow.session, organisation_id=organisation_id, now=services.now, choices=[
            PurposeChoice("other", "Dossier MDPH"), PurposeChoice("caf_rsa"), PurposeChoice("caf_rsa")])
        assert kept == [PurposeChoice("caf_rsa"), PurposeChoice("other", "Dossier MDPH")]
        assert require_registered(uow.session, organisation_id, PurposeChoice("caf_rsa"))
        with pytest.raises(PurposeNotRegistered):
            require_registered(uow.session, organisation_id, PurposeChoice("prefecture"))
        with pytest.raises(PurposeNotRegistered):
            require_registered(uow.session, organisation_id, PurposeChoice("other", "Autre chose"))
        replace_purposes(uow.session, organisation_id=organisation_id, now=services.now,
                         choices=[PurposeChoice("housing")])
        assert registered_purposes(uow.session, organisation_id) == [PurposeChoice("housing")]
