from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quotes.loading import QuoteFileError, read_quote_file
from quotes.storing import quotes_load


class Command(BaseCommand):
    help = (
        'Load quotes from a JSON file (a list of {"text", "author"}) or a CSV file (header '
        "text,author; author may be empty). Every row is checked first: one bad row and nothing "
        "is loaded. Quotes already stored (same text and author, surrounding whitespace aside) "
        "are skipped, so a file can be loaded again safely."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a .json or .csv file; any other name goes by its content")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check the file and report what would happen, writing nothing",
        )

    def handle(self, *args, path: str, dry_run: bool, **options) -> None:
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            quote_file = read_quote_file(raw, name=path)
        except QuoteFileError as exc:
            raise CommandError(f"{path}: {exc}") from None
        if quote_file.errors:
            for error in quote_file.errors:
                self.stderr.write(str(error))
            count = len(quote_file.errors)
            raise CommandError(f"{path}: {count} bad row{'s' if count != 1 else ''}; nothing was loaded.")

        show_progress = self.stderr.isatty() and not dry_run
        result = quotes_load(
            quotes=quote_file.quotes, dry_run=dry_run, progress=self._progress if show_progress else None
        )
        if show_progress and result.created:
            self.stderr.write("", style_func=str)  # end the progress line, uncoloured
        if dry_run:
            self.stdout.write(
                f"Dry run: would create {result.created} quotes, skip {result.skipped} "
                "(already stored or repeated). Nothing was written."
            )
        else:
            self.stdout.write(
                f"Created {result.created} quotes, skipped {result.skipped} (already stored or repeated)."
            )

    def _progress(self, done: int, total: int) -> None:
        self.stderr.write(
            f"\rLoading quotes: {done * 100 // total:3d}% ({done}/{total})", ending="", style_func=str
        )
        self.stderr.flush()
