"""Pagination for list endpoints: page numbers, with a client-chosen page size."""

from rest_framework.pagination import PageNumberPagination


class DiaryPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
