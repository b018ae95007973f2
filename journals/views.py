from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from focusflow.api.conditional import etag, if_match_check, not_modified
from focusflow.api.exceptions import VersionConflict
from focusflow.api.schema import ETAG_HEADER, IF_MATCH_HEADER, IF_NONE_MATCH_HEADER, Carrying, errors, invalid
from focusflow.api.scopes import JOURNALS_READ, JOURNALS_WRITE
from focusflow.api.viewsets import ID_PATTERN, APIViewSet
from focusflow.idempotency.keys import idempotent
from focusflow.sync.client_ids import ClientIdConflict, ClientIdDeleted
from journals import selectors, services
from journals.exceptions import JournalLocked
from journals.models import Journal
from journals.serializers import (
    JournalCreateSerializer,
    JournalListQuerySerializer,
    JournalSerializer,
    JournalUpdateSerializer,
)

STALE = Carrying(VersionConflict, JournalSerializer)


def _change_schema(summary: str):
    return extend_schema(
        summary=summary,
        description="With `If-Match`, only while the journal is at that version.",
        request=JournalUpdateSerializer,
        parameters=[IF_MATCH_HEADER, ETAG_HEADER],
        responses={
            200: JournalSerializer,
            **errors(invalid(), JournalLocked, exceptions.NotFound, STALE),
        },
    )


class JournalViewSet(APIViewSet):
    """The caller's journals. Only the author's journals exist here: anybody else's is a 404
    for every method."""

    token_scopes = (JOURNALS_READ, JOURNALS_WRITE)

    serializer_class = JournalSerializer
    lookup_value_regex = ID_PATTERN

    def get_queryset(self):
        return Journal.objects.filter(user=self.request.user)

    @extend_schema(
        summary="My journals",
        description="Newest first. `from`/`to` are days of creation on the user's own calendar.",
        parameters=[JournalListQuerySerializer],
        responses={200: JournalSerializer(many=True), **errors(invalid())},
    )
    def list(self, request):
        query = JournalListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        journals = selectors.journal_list(
            user=request.user,
            session_id=filters.get("session"),
            search=filters.get("search"),
            first=filters.get("from"),
            last=filters.get("to"),
        )
        page = self.paginate_queryset(journals)
        return self.get_paginated_response(JournalSerializer(page, many=True).data)

    @extend_schema(
        summary="Write a journal",
        operation_id="journals_create",
        request=JournalCreateSerializer,
        responses={
            201: JournalSerializer,
            200: OpenApiResponse(
                JournalSerializer, description="A retry: the journal this `client_id` made."
            ),
            **errors(
                invalid("Blank or too long content; `session` not one of your sessions."),
                Carrying(ClientIdConflict, JournalSerializer),
                ClientIdDeleted,
            ),
        },
    )
    @action(detail=False, methods=["post"], url_path="create")
    @idempotent
    def create_journal(self, request):
        serializer = JournalCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        journal, created = services.journal_create(
            user=request.user,
            content=serializer.validated_data["content"],
            session_id=serializer.validated_data.get("session"),
            client_id=serializer.validated_data.get("client_id"),
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(JournalSerializer(journal).data, status=code)

    def _tagged(self, journal: Journal) -> Response:
        """One journal with its version as ETag, for `If-Match` on the next write."""
        return Response(JournalSerializer(journal).data, headers={"ETag": etag(journal)})

    @extend_schema(
        summary="A journal",
        description="With its version as `ETag`; `If-None-Match` with it answers 304 while unchanged, "
        "`If-Match` with another version a 412 as for a write.",
        parameters=[IF_MATCH_HEADER, IF_NONE_MATCH_HEADER, ETAG_HEADER],
        responses={
            200: JournalSerializer,
            304: OpenApiResponse(description="Not modified: the `If-None-Match` tag is still current."),
            **errors(exceptions.NotFound, STALE),
        },
    )
    def retrieve(self, request, pk: str):
        journal = self.get_object()
        return not_modified(journal, request, serializer=JournalSerializer) or self._tagged(journal)

    def _change(self, request, pk: str, *, partial: bool) -> Response:
        # Locked wins over a validation error, so it is checked before the body is: a client
        # editing a final journal must learn that it is final, not that its new text is too
        # long (fixing the text would only lead it to the 403 next).
        journal = services.journal_for_change(user=request.user, journal_id=int(pk))
        # Then the precondition, before the body too (RFC 9110): a stale version is a 412 even
        # when the new text is wrong as well. journal_update checks it again under the lock.
        if_match_check(journal, request.headers.get("If-Match"), serializer=JournalSerializer)
        serializer = JournalUpdateSerializer(journal, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        if "content" in serializer.validated_data:
            journal = services.journal_update(
                user=request.user,
                journal_id=journal.pk,
                content=serializer.validated_data["content"],
                if_match=request.headers.get("If-Match"),
            )
        return self._tagged(journal)

    @_change_schema("Rewrite a journal")
    def update(self, request, pk: str):
        return self._change(request, pk, partial=False)

    @_change_schema("Edit a journal")
    def partial_update(self, request, pk: str):
        return self._change(request, pk, partial=True)

    @extend_schema(
        summary="Delete a journal",
        description="With `If-Match`, only while the journal is at that version.",
        request=None,
        parameters=[IF_MATCH_HEADER],
        responses={204: None, **errors(JournalLocked, exceptions.NotFound, STALE)},
    )
    def destroy(self, request, pk: str):
        services.journal_delete(
            user=request.user, journal_id=int(pk), if_match=request.headers.get("If-Match")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
