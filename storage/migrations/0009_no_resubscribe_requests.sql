-- Version 9: withdrawal erases the survivor's number and its lookup hash, so a START from it can no
-- longer be tied to her case: the table of START requests goes, with any number still in it.
DROP TABLE sms_resubscribe_requests;
