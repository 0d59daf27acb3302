"""Pharmacy roles as groups with permissions (accounts.models.Role names the groups)."""

from __future__ import annotations

from typing import Any

from accounts.models import Role

# Permission codenames (app intake, model prescription unless "app.codename") per role.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.PRESCRIBER: ("submit_prescription",),
    Role.TECHNICIAN: ("review_prescription", "compound_prescription"),
    Role.PHARMACIST: (
        "review_prescription",
        "approve_prescription",
        "compound_prescription",
        "intake.view_statelicence",
        "intake.add_statelicence",
        "intake.change_statelicence",
    ),
    Role.ADMIN: (
        "review_prescription",
        "view_audit",
        # The accounts list in the Django admin, where an administrator unlocks sign-in.
        "accounts.view_user",
        "intake.change_prescriber",
        "intake.view_prescriber",
        "intake.view_statelicence",
        "intake.add_statelicence",
        "intake.change_statelicence",
    ),
}


def ensure_role_groups(**_: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted: list[Permission] = []
        for name in codenames:
            app_label, codename = name.split(".") if "." in name else ("intake", name)
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def ensure_reference_data(**kwargs: Any) -> None:
    from intake.services.formulary import formulary_install_defaults

    ensure_role_groups(**kwargs)
    formulary_install_defaults()
