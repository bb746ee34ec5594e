"""The budget kind: an AWS Budgets monthly cost budget that notifies e-mails and the alerts
topic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from troposphere import budgets

from cfngen.blueprint.models import Blueprint
from cfngen.blueprint.models.operations import Budget
from cfngen.blueprint.validate import Checker
from cfngen.builders.base import Context, StackPlan
from cfngen.kinds import alerts
from cfngen.kinds.base import Facts, Kind

BUDGET = "budget"


def plan(bp: Blueprint, facts: Facts) -> Sequence[StackPlan[Any]]:
    budget = BUDGET_KIND.one(bp)
    if budget is None:
        return []
    return [
        StackPlan(
            component=BUDGET,
            title="Monthly cost budget",
            build=build_budget,
            spec=budget,
            depends_on=alerts.dependency(bp),
            source=("budget",),
        )
    ]


def check(bp: Blueprint, facts: Facts, c: Checker) -> None:
    budget = BUDGET_KIND.one(bp)
    if budget is not None and not budget.emails and not alerts.dependency(bp):
        c.error(
            ("budget",),
            "the budget notifies nobody",
            "add `emails:` to the budget, or an `alerts` topic",
        )


def build_budget(spec: Budget, ctx: Context) -> None:
    subscribers: list[budgets.Subscriber] = [
        budgets.Subscriber(SubscriptionType="EMAIL", Address=email) for email in spec.emails
    ]
    topic = alerts.topic_arn(ctx)
    if topic is not None:
        subscribers.append(budgets.Subscriber(SubscriptionType="SNS", Address=topic))
    notifications = [
        budgets.NotificationWithSubscribers(
            Notification=budgets.Notification(
                NotificationType=t.type.upper(),
                ComparisonOperator="GREATER_THAN",
                Threshold=t.percent,
                ThresholdType="PERCENTAGE",
            ),
            Subscribers=subscribers,
        )
        for t in spec.thresholds
    ]
    ctx.add(
        budgets.Budget(
            "MonthlyBudget",
            Budget=budgets.BudgetData(
                BudgetName=ctx.name("monthly"),
                BudgetType="COST",
                TimeUnit="MONTHLY",
                BudgetLimit=budgets.Spend(Amount=spec.monthly_limit_usd, Unit="USD"),
            ),
            NotificationsWithSubscribers=notifications,
        )
    )


BUDGET_KIND: Kind[Budget] = Kind(
    section="budget",
    model=Budget,
    description="Monthly AWS Budgets cost budget.",
    prefix=BUDGET,
    plan=plan,
    singleton=True,
    checks=(check,),
    order=31,
)
KIND = BUDGET_KIND
