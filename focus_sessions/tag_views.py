"""`/api/tags/` and `/api/goals/`: the caller's tags and goals."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.response import Response

from focus_sessions import goals, selectors, tags
from focus_sessions.exceptions import GoalExists, TagNameTaken
from focus_sessions.models import Goal, Tag
from focus_sessions.serializers import (
    GoalCreateSerializer,
    GoalSerializer,
    GoalUpdateSerializer,
    TagCreateSerializer,
    TagListQuerySerializer,
    TagMergeSerializer,
    TagSerializer,
    TagUpdateSerializer,
)
from focusflow.api.conditional import etag, if_match_check, not_modified
from focusflow.api.exceptions import VersionConflict
from focusflow.api.pagination import CursorPagination
from focusflow.api.schema import (
    ETAG_HEADER,
    IF_MATCH_HEADER,
    IF_NONE_MATCH_HEADER,
    Carrying,
    errors,
    etag_header,
    invalid,
)
from focusflow.api.scopes import SESSIONS_READ, SESSIONS_WRITE
from focusflow.api.viewsets import ID_PATTERN, APIViewSet
from focusflow.sync.client_ids import ClientIdConflict, ClientIdDeleted

NOT_MODIFIED = OpenApiResponse(description="Not modified: the `If-None-Match` tag is still current.")
DAILY_GOAL_NOTE = (
    'The goal with `tag: null` and `period: "day"` is the profile\'s `daily_goal_minutes` in its '
    "richer form, kept in step both ways in the same transaction: making or changing it sets "
    "`daily_goal_minutes` to its target, deleting it (or moving it to a tag or a week) sets "
    "`daily_goal_minutes` to null, and a PATCH of `daily_goal_minutes` on `/api/users/me/` makes, "
    "changes or deletes it. Both show in the sync feed (a `profile` and a `goal` entry)."
)


class TagPagination(CursorPagination):
    ordering = ("name_key", "id")  # name_key is unique per user: a position names one tag


class _Versioned(APIViewSet):
    """One object with its version as ETag, `If-Match` checked before the body is read."""

    serializer_class: type
    lookup_value_regex = ID_PATTERN

    def _one(self, obj, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(self.serializer_class(obj).data, status=status_code, headers={"ETag": etag(obj)})

    def _precondition(self, request) -> None:
        if (header := request.headers.get("If-Match")) is not None:
            if_match_check(self.get_object(), header, serializer=self.serializer_class)

    def _retrieve(self, request) -> Response:
        obj = self.get_object()
        return not_modified(obj, request, serializer=self.serializer_class) or self._one(obj)


TAG_STALE = Carrying(VersionConflict, TagSerializer)
GOAL_STALE = Carrying(VersionConflict, GoalSerializer)


class TagViewSet(_Versioned):
    """The caller's tags; anybody else's is a 404 for every method."""

    token_scopes = (SESSIONS_READ, SESSIONS_WRITE)

    serializer_class = TagSerializer
    pagination_class = TagPagination

    def get_queryset(self):
        return Tag.objects.filter(user=self.request.user)

    @extend_schema(
        summary="My tags",
        description="By name case-insensitively, then id. `archived` keeps only archived (true) or "
        "active (false) tags; without it, every tag.",
        parameters=[TagListQuerySerializer],
        responses={200: TagSerializer(many=True), **errors(invalid())},
    )
    def list(self, request):
        query = TagListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(
            selectors.tag_list(user=request.user, archived=query.validated_data["archived"])
        )
        return self.get_paginated_response(TagSerializer(page, many=True).data)

    @extend_schema(
        summary="Make a tag",
        description="Names are unique among your tags (archived ones included), compared case-folded: "
        "a 409 `tag_name_taken` carries the tag that has the name, so a device that made the same tag "
        "offline can map its own to it. The `client_id` rules come first.",
        request=TagCreateSerializer,
        parameters=[etag_header([200, 201])],
        responses={
            201: TagSerializer,
            200: OpenApiResponse(TagSerializer, description="A retry: the tag this `client_id` made."),
            **errors(
                invalid("Name blank or over 50 characters; colour not `#rrggbb`."),
                TagNameTaken,
                Carrying(ClientIdConflict, TagSerializer),
                ClientIdDeleted,
            ),
        },
    )
    def create(self, request):
        serializer = TagCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tag, created = tags.tag_create(user=request.user, **serializer.validated_data)
        return self._one(tag, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="A tag",
        description="With its version as `ETag`, and the preconditions of `GET` of one session.",
        parameters=[IF_MATCH_HEADER, IF_NONE_MATCH_HEADER, ETAG_HEADER],
        responses={200: TagSerializer, 304: NOT_MODIFIED, **errors(exceptions.NotFound, TAG_STALE)},
    )
    def retrieve(self, request, pk: str):
        return self._retrieve(request)

    @extend_schema(
        summary="Rename, recolour or archive a tag",
        description="With `If-Match`, only while the tag is at that version.",
        request=TagUpdateSerializer,
        parameters=[IF_MATCH_HEADER, ETAG_HEADER],
        responses={
            200: TagSerializer,
            **errors(invalid(), exceptions.NotFound, TagNameTaken, TAG_STALE),
        },
    )
    def partial_update(self, request, pk: str):
        self._precondition(request)
        serializer = TagUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tag = tags.tag_update(
            user=request.user,
            tag_id=int(pk),
            if_match=request.headers.get("If-Match"),
            **serializer.validated_data,
        )
        return self._one(tag)

    @extend_schema(
        summary="Delete a tag",
        description="It comes off every session that has it (each a change: new version, in the sync "
        "feed) and its goals are deleted. With `If-Match`, only while the tag is at that version.",
        request=None,
        parameters=[IF_MATCH_HEADER],
        responses={204: None, **errors(exceptions.NotFound, TAG_STALE)},
    )
    def destroy(self, request, pk: str):
        tags.tag_delete(user=request.user, tag_id=int(pk), if_match=request.headers.get("If-Match"))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Merge a tag into another",
        description="Every session of this tag carries `into` instead (once; each a change), its goals "
        "move to `into` unless `into` has one for that period (then they are deleted), and this tag is "
        "deleted. `If-Match` applies to this tag. Answers the tag merged into.",
        request=TagMergeSerializer,
        parameters=[IF_MATCH_HEADER, etag_header([200])],
        responses={
            200: TagSerializer,
            **errors(invalid("`into` is this tag, or not one of your tags."), exceptions.NotFound, TAG_STALE),
        },
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk: str):
        self._precondition(request)
        serializer = TagMergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        into = tags.tag_merge(
            user=request.user,
            tag_id=int(pk),
            into_id=serializer.validated_data["into"],
            if_match=request.headers.get("If-Match"),
        )
        return self._one(into)


class GoalViewSet(_Versioned):
    """The caller's goals; anybody else's is a 404 for every method."""

    token_scopes = (SESSIONS_READ, SESSIONS_WRITE)

    serializer_class = GoalSerializer

    def get_queryset(self):
        return Goal.objects.filter(user=self.request.user)

    @extend_schema(
        summary="My goals",
        description="Newest first. " + DAILY_GOAL_NOTE,
        responses={200: GoalSerializer(many=True)},
    )
    def list(self, request):
        page = self.paginate_queryset(selectors.goal_list(user=request.user))
        return self.get_paginated_response(GoalSerializer(page, many=True).data)

    @extend_schema(
        summary="Set a goal",
        description="At most one goal per tag and period: a 409 `goal_exists` carries the one there is. "
        "The `client_id` rules come first. " + DAILY_GOAL_NOTE,
        request=GoalCreateSerializer,
        parameters=[etag_header([200, 201])],
        responses={
            201: GoalSerializer,
            200: OpenApiResponse(GoalSerializer, description="A retry: the goal this `client_id` made."),
            **errors(
                invalid("`tag` not one of your tags; `target_minutes` beyond the period."),
                GoalExists,
                Carrying(ClientIdConflict, GoalSerializer),
                ClientIdDeleted,
            ),
        },
    )
    def create(self, request):
        serializer = GoalCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        goal, created = goals.goal_create(user=request.user, **serializer.validated_data)
        return self._one(goal, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="A goal",
        description="With its version as `ETag`, and the preconditions of `GET` of one session.",
        parameters=[IF_MATCH_HEADER, IF_NONE_MATCH_HEADER, ETAG_HEADER],
        responses={200: GoalSerializer, 304: NOT_MODIFIED, **errors(exceptions.NotFound, GOAL_STALE)},
    )
    def retrieve(self, request, pk: str):
        return self._retrieve(request)

    @extend_schema(
        summary="Change a goal",
        description="`target_minutes`, `tag`, `period`. With `If-Match`, only while the goal is at that "
        "version. " + DAILY_GOAL_NOTE,
        request=GoalUpdateSerializer,
        parameters=[IF_MATCH_HEADER, ETAG_HEADER],
        responses={
            200: GoalSerializer,
            **errors(invalid(), exceptions.NotFound, GoalExists, GOAL_STALE),
        },
    )
    def partial_update(self, request, pk: str):
        self._precondition(request)
        serializer = GoalUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        goal = goals.goal_update(
            user=request.user,
            goal_id=int(pk),
            if_match=request.headers.get("If-Match"),
            **serializer.validated_data,
        )
        return self._one(goal)

    @extend_schema(
        summary="Delete a goal",
        description="With `If-Match`, only while the goal is at that version. " + DAILY_GOAL_NOTE,
        request=None,
        parameters=[IF_MATCH_HEADER],
        responses={204: None, **errors(exceptions.NotFound, GOAL_STALE)},
    )
    def destroy(self, request, pk: str):
        goals.goal_delete(user=request.user, goal_id=int(pk), if_match=request.headers.get("If-Match"))
        return Response(status=status.HTTP_204_NO_CONTENT)
