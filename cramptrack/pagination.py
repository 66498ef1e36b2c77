"""Pagination for list endpoints: page numbers, with a client-chosen page size."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class DiaryPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        # DRF quietly falls back to the default for "page_size=abc"; a client with a bug should hear of it.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValidationError({self.page_size_query_param: ["A whole number from 1 (at most 500 are used)."]})
        return super().get_page_size(request)

    # "?page=last" is not a number, and the schema says a number.
    last_page_strings = ()

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and not raw:  # DRF reads "?page=" as page 1
            raise ValidationError({self.page_query_param: ["A page number from 1, or leave the parameter out."]})
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1  # page 0 is a 404, page_size 0 a 400
        return parameters
