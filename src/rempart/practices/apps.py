from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PracticesConfig(AppConfig):
    name = "rempart.practices"
    label = "practices"
    verbose_name = _("Practices")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from rempart.practices.models import SearchDocument
        from rempart.practices.search import forget_document

        post_delete.connect(
            forget_document, sender=SearchDocument, dispatch_uid="practices-forget-document"
        )
