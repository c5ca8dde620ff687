from django.urls import path, re_path

from promotion import case_rules_views, county_views, party_views, review_views, round_views, views

app_name = "promotion"

urlpatterns = [
    # The branch side (推优工作台): board, cases, rounds.
    path("", views.branch_index, name="branches"),
    path("branches/<int:branch_pk>/", views.board, name="board"),
    path("branches/<int:branch_pk>/cases/new/", views.case_open, name="case-open"),
    path("branches/<int:branch_pk>/rounds/", round_views.round_list, name="rounds"),
    path("branches/<int:branch_pk>/rounds/new/", round_views.round_create, name="round-create"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/form.pdf", views.case_form_pdf, name="case-form-pdf"),
    re_path(rf"^cases/(?P<pk>\d+)/(?P<action>{'|'.join(views.CASE_ACTIONS)})/$", views.case_action, name="case-action"),
    path(
        "cases/<int:pk>/back-to-cultivation/",
        case_rules_views.case_back_to_cultivation,
        name="case-back-to-cultivation",
    ),
    path("rounds/<int:pk>/", round_views.round_detail, name="round"),
    path("rounds/<int:pk>/nominate/", round_views.round_nominate, name="round-nominate"),
    path("rounds/<int:pk>/opinions/", round_views.round_open_opinions, name="round-open-opinions"),
    path("rounds/<int:pk>/vote/", round_views.round_vote, name="round-vote"),
    path("rounds/<int:pk>/publicity/", round_views.round_publicity, name="round-publicity"),
    path("rounds/<int:pk>/submit/", round_views.round_submit, name="round-submit"),
    path("rounds/<int:pk>/close/", round_views.round_close, name="round-close"),
    path("nominations/<int:pk>/remove/", round_views.nomination_remove, name="nomination-remove"),
    path("nominations/<int:pk>/opinion/", round_views.nomination_opinion, name="nomination-opinion"),
    path("nominations/<int:pk>/objection/", round_views.objection_record, name="objection-record"),
    path("objections/<int:pk>/resolve/", round_views.objection_resolve, name="objection-resolve"),
    # The committees and the county: review, overview, plans; the Party organizers' read-only pages.
    path("review/", review_views.review_queue, name="review-queue"),
    path("review/decide/", review_views.review_decide, name="review-decide"),
    path("review/<int:pk>/", review_views.review_case, name="review-case"),
    path("overview/", county_views.overview, name="overview"),
    path("plans/", county_views.plan_list, name="plans"),
    path("plans/<int:committee_pk>/<int:year>/", county_views.plan_edit, name="plan-edit"),
    path("access-log/", county_views.access_log, name="access-log"),
    path("party/", party_views.party_case_list, name="party-cases"),
    path("party/<int:pk>/", party_views.party_case_detail, name="party-case"),
]
