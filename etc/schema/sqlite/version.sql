-- SPDX-License-Identifier: BSD-2-Clause
-- The version of every table, read by modules at start-up (sb_db_check_version).
CREATE TABLE IF NOT EXISTS version (
    table_name CHAR(32) NOT NULL,
    table_version INTEGER DEFAULT 0 NOT NULL,
    CONSTRAINT version_t_name_idx UNIQUE (table_name)
);
