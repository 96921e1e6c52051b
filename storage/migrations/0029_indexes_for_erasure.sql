-- Version 29: what erasure and the subject access export look up by case (or by alert) without reading the
-- whole table. Erasure runs in the daily round's unit of work, on the one writer: without these, each
-- erased case read every inbound message, alert, access reason and inbox line (seconds at a year's data).
CREATE INDEX inbound_messages_case ON inbound_messages(case_id) WHERE case_id IS NOT NULL;
CREATE INDEX alerts_by_case ON alerts(case_id, id);
CREATE INDEX audit_log_case ON audit_log(case_id, id) WHERE case_id IS NOT NULL;
CREATE INDEX access_reasons_case ON access_reasons(case_id);
CREATE INDEX inbox_alert ON inbox(alert_id) WHERE alert_id IS NOT NULL;
CREATE INDEX consents_case ON consents(case_id, id);
