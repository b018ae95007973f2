from django.apps import AppConfig


class JournalsConfig(AppConfig):
    name = "journals"

    def ready(self) -> None:
        from focusflow.export import register_export_section
        from journals.selectors import journals_export

        register_export_section("journals", journals_export)
