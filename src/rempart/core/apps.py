from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "rempart.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from rempart.core import signals  # noqa: F401  (connects the audit and role hooks)
