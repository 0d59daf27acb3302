from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.lockout import sign_in_unlock
from accounts.models import User
from intake.audit import AuditEntry


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_active", "last_login")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ("groups",)
    actions = ("unlock_sign_in",)

    @admin.action(description="Unlock sign-in", permissions=["unlock"])
    def unlock_sign_in(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        entry = AuditEntry.of(request)
        for user in queryset:
            sign_in_unlock(user=user, audit_entry=entry)
        self.message_user(request, f"Sign-in unlocked for {len(queryset)} account(s).", messages.SUCCESS)

    def has_unlock_permission(self, request: HttpRequest) -> bool:
        # Pharmacy administrators (and superusers), whatever model permissions they were given.
        return request.user.is_pharmacy_admin  # type: ignore[union-attr]
