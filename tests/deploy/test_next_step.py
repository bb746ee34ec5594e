"""The next step printed after a failed operation follows the status the stack really ended in."""

from __future__ import annotations

from cfngen.deploy.deployer import next_step


def test_a_stack_deleted_while_waiting_is_reported_as_deleted() -> None:
    step = next_step("dev-ecr", "DELETE_COMPLETE", creating=True)
    assert "dev-ecr was deleted while cfngen waited for it" in step
    assert "rolled back" not in step


def test_each_failed_status_gets_its_own_step() -> None:
    assert "rolled back and holds nothing" in next_step("s", "ROLLBACK_COMPLETE", creating=True)
    assert "back at its previous version" in next_step("s", "UPDATE_ROLLBACK_COMPLETE", False)
    assert "continue-update-rollback" in next_step("s", "UPDATE_ROLLBACK_FAILED", False)


def test_an_unexpected_final_status_is_named_not_guessed() -> None:
    step = next_step("s", "CREATE_COMPLETE", creating=True)
    assert step == "s ended CREATE_COMPLETE (creating); check `cfngen status`, then deploy again"
    assert "rolled back" not in step and "previous version" not in step
