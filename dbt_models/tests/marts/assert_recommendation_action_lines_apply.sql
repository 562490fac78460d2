-- Every line of the reviewed recommendation actions file applies (docs/recommendations.md).
-- Severity warn: a bad line is ignored and the others apply; each failing row is one ignored
-- line with the paragraph naming the file, row and column (`mlcost run` exits 65 with them).
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'rpt_recommendation_action_problems'}}}) }}
select
    source_row_number,
    problem
from {{ ref('rpt_recommendation_action_problems') }}
