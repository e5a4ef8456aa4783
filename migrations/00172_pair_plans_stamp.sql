-- +goose Up
-- A pair's plan (its name and whether it is running, stopped or finished)
-- is shown on the pair's progress tab, which is kept per counselor under
-- the dashboard's stamp (issue 18). Stopping or finishing a plan changes
-- only pair_plans, which moved no stamp: the kept tab would have shown the
-- plan as running. These triggers move the pair's counselor's version in
-- the same transaction, as the other tables' do (migration 00060).
CREATE TRIGGER pair_plans_dashboard_insert AFTER INSERT ON pair_plans REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id();
CREATE TRIGGER pair_plans_dashboard_update AFTER UPDATE ON pair_plans REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id();
CREATE TRIGGER pair_plans_dashboard_delete AFTER DELETE ON pair_plans REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dashboard_mark_by_pair_id();

-- +goose Down
DROP TRIGGER pair_plans_dashboard_delete ON pair_plans;
DROP TRIGGER pair_plans_dashboard_update ON pair_plans;
DROP TRIGGER pair_plans_dashboard_insert ON pair_plans;
