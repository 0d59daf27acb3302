from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "intake"
    verbose_name = "Prescription intake"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from intake.roles import ensure_reference_data

        # Role groups, their permissions and the default formulary exist wherever the schema
        # does: after migrate, and after a flush (which tests use) as well.
        post_migrate.connect(ensure_reference_data, sender=self)
