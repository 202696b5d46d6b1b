"""Page/pageSize query parameters and the list envelope of SPEC §2."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class PageParams(BaseModel):
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def _page_params(
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=100)] = 20,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


Paging = Annotated[PageParams, Depends(_page_params)]


class Pagination(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    page: int
    page_size: int = Field(serialization_alias="pageSize", validation_alias="pageSize")
    total: int
    has_more: bool = Field(serialization_alias="hasMore", validation_alias="hasMore")


class Page(BaseModel, Generic[T]):
    data: list[T]
    pagination: Pagination

    @classmethod
    def of(cls, items: list[T], total: int, params: PageParams) -> Page[T]:
        return cls(
            data=items,
            pagination=Pagination(
                page=params.page,
                page_size=params.page_size,
                total=total,
                has_more=params.offset + len(items) < total,
            ),
        )


class Envelope(BaseModel, Generic[T]):
    data: T
