from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from focusflow.idempotency import IDEMPOTENCY_KEY_PARAMETER, idempotent
from focusflow.schema import UNAUTHORIZED, error, validation_error
from journals import selectors, services
from journals.models import Journal
from journals.serializers import (
    JournalCreateSerializer,
    JournalListQuerySerializer,
    JournalSerializer,
    JournalUpdateSerializer,
)

NOT_FOUND = error("No such journal among yours (`not_found`); another user's journal is a 404 too.")
LOCKED = error("Tied to a session, so final (`journal_locked`).")


class JournalCreateView(APIView):
    @extend_schema(
        summary="Write a journal",
        request=JournalCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            201: JournalSerializer,
            400: validation_error(
                "Blank or too long content; `session` not one of your sessions; or an invalid "
                "`Idempotency-Key` (`invalid_idempotency_key`)."
            ),
            401: UNAUTHORIZED,
            422: error("The Idempotency-Key was used for a different request (`idempotency_key_reused`)."),
        },
    )
    @idempotent
    def post(self, request):
        serializer = JournalCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        journal = services.journal_create(
            user=request.user,
            content=serializer.validated_data["content"],
            session_id=serializer.validated_data.get("session"),
        )
        return Response(JournalSerializer(journal).data, status=status.HTTP_201_CREATED)


class JournalListView(generics.ListAPIView):
    serializer_class = JournalSerializer

    @extend_schema(
        summary="My journals",
        description="Newest first. `from`/`to` are days of creation on the user's own calendar.",
        parameters=[JournalListQuerySerializer],
        responses={200: JournalSerializer(many=True), 400: validation_error(), 401: UNAUTHORIZED},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = JournalListQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        return selectors.journal_list(
            user=self.request.user,
            session_id=filters.get("session"),
            search=filters.get("search"),
            first=filters.get("from"),
            last=filters.get("to"),
        )


def _update_schema(summary: str):
    return extend_schema(
        summary=summary,
        request=JournalUpdateSerializer,
        responses={
            200: JournalSerializer,
            400: validation_error(),
            401: UNAUTHORIZED,
            403: LOCKED,
            404: NOT_FOUND,
        },
    )


class JournalDetailView(APIView):
    """Only the author's journals exist here: anybody else's is a 404 for every method."""

    def get_object(self, pk: int) -> Journal:
        return get_object_or_404(Journal, pk=pk, user=self.request.user)

    @extend_schema(summary="A journal", responses={200: JournalSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND})
    def get(self, request, pk: int):
        return Response(JournalSerializer(self.get_object(pk)).data)

    def _update(self, request, pk: int, *, partial: bool) -> Response:
        journal = self.get_object(pk)
        services.journal_check_editable(journal)  # before validation: locked, whatever the body
        serializer = JournalUpdateSerializer(journal, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        journal = services.journal_update(journal=journal, content=serializer.validated_data.get("content"))
        return Response(JournalSerializer(journal).data)

    @_update_schema("Rewrite a journal")
    def put(self, request, pk: int):
        return self._update(request, pk, partial=False)

    @_update_schema("Edit a journal")
    def patch(self, request, pk: int):
        return self._update(request, pk, partial=True)

    @extend_schema(
        summary="Delete a journal",
        request=None,
        responses={204: None, 401: UNAUTHORIZED, 403: LOCKED, 404: NOT_FOUND},
    )
    def delete(self, request, pk: int):
        services.journal_delete(journal=self.get_object(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
