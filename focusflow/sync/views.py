"""`GET /api/sync/`: the change feed of `focusflow.sync.feed`, a page at a time."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from focusflow.api.schema import errors, invalid
from focusflow.api.scopes import ANY_TOKEN, scopes_of
from focusflow.api.viewsets import APIViewSet
from focusflow.sync.feed import (
    SyncCursor,
    SyncCursorExpired,
    cursor_decode,
    cursor_encode,
    sync_page,
    sync_position,
)
from focusflow.sync.serializers import SYNC_DESCRIPTION, SyncPageSerializer, SyncQuerySerializer


class SyncViewSet(APIViewSet):
    """`GET /api/sync/`: the change feed of `focusflow.sync.feed`."""

    token_scopes = (ANY_TOKEN, ANY_TOKEN)  # what each token shows depends on its scopes

    pagination_class = None  # pages of its own, by change number: `cursor`, `limit`, `has_more`

    @extend_schema(
        summary="Changes since the last sync",
        description=SYNC_DESCRIPTION,
        operation_id="sync_changes",
        parameters=[SyncQuerySerializer],
        responses={
            200: SyncPageSerializer,
            **errors(
                invalid("A cursor that is not one of ours, or another account's; a bad `limit`."),
                SyncCursorExpired,
            ),
        },
    )
    def list(self, request):
        query = SyncQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        now = timezone.now()
        latest, purged = sync_position(user=request.user)
        raw = query.validated_data.get("cursor")
        if raw:
            cursor = cursor_decode(raw, user=request.user, purged_seq=purged, latest=latest)
        else:  # a new chain: every deletion up to `latest` was of objects this device never gets
            cursor = SyncCursor(seq=-1, chain_start=latest)
        page = sync_page(
            user=request.user,
            after=cursor.seq,
            limit=query.validated_data["limit"],
            latest=latest,
            now=now,
            scopes=scopes_of(request.auth),
        )
        return Response(
            {
                "changes": [change.entry() for change in page.changes],
                "cursor": cursor_encode(
                    user=request.user, cursor=SyncCursor(seq=max(page.seq, 0), chain_start=cursor.chain_start)
                ),
                "has_more": page.has_more,
                "server_now": serializers.DateTimeField().to_representation(now),
            }
        )
