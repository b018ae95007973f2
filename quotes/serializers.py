from rest_framework import serializers


class TodayQuoteSerializer(serializers.Serializer):
    """The quote of the day: the same for every user on a calendar day."""

    id = serializers.IntegerField(help_text="The quote's id.")
    text = serializers.CharField()
    author = serializers.CharField(allow_null=True, help_text="null when the author is unknown.")
    date = serializers.DateField(help_text="The day, in the server's QUOTES_TIME_ZONE, this quote is for.")

    def to_representation(self, quote) -> dict:
        """Written out by hand (the hottest read of all); tests pin it equal to DRF's own."""
        return {
            "id": quote["id"],
            "text": quote["text"],
            "author": quote["author"],
            "date": quote["date"].isoformat(),
        }
