"""The service's addresses."""

from __future__ import annotations

from django.urls import path

from archiver.web.views import access, auth, disposal, errors, search, sign, users, year

handler403 = errors.forbidden
handler404 = errors.not_found
handler500 = errors.server_error

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginPage.as_view(), name="login"),
    path("logout/", auth.logout_page, name="logout"),
    path("year/", year.year_page, name="year"),
    path("year/verify/", year.start_verify, name="year_verify"),
    path("year/check/", year.run_settings_check, name="year_check"),
    path("sign/", sign.sign_page, name="sign"),
    path("sign/document/<int:number>.pdf", sign.document_pdf, name="sign_pdf"),
    path("sign/document/<int:number>/page-<int:page>.png", sign.document_page, name="sign_png"),
    path("sign/approve/", sign.approve, name="sign_approve"),
    path("sign/prepare/", sign.prepare, name="sign_prepare"),
    path("sign/complete/", sign.complete, name="sign_complete"),
    path("search/", search.search_page, name="search"),
    path("student/<str:school_id>/<str:student_id>/", search.student_page, name="student"),
    path("record/<path:record_id>/download/", search.download, name="download"),
    path("record/<path:record_id>/", search.record_page, name="record"),
    path("extract/", search.extract, name="extract"),
    path("disposal/", disposal.disposal_page, name="disposal"),
    path("disposal/<str:number>-draft.pdf", disposal.draft_pdf, name="disposal_pdf"),
    path("access-log/", access.access_log_page, name="access_log"),
    path("users/", users.users_page, name="users"),
]
