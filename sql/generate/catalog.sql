-- Code catalogs of the ordinary ("filler") claims of general persons.
-- General persons never receive a cervical/thoracic ESI code, so nothing here
-- can produce a finding; lumbar ESIs with 77003, physical therapy and imaging
-- of every region appear as they do in real claims.

-- ---------------------------------------------------------- diagnoses
-- pools: 1 chronic, 2 musculoskeletal, 3 injury/acute, 4 lumbar spine, 5 behavioral
create or replace macro gen_dx_pools() as [
    [
        'I10', 'E119', 'E785', 'E039', 'K219', 'J449', 'F419', 'F329', 'N183', 'Z0000', 'Z23',
        'R5383', 'G4733', 'E669', 'I4891', 'J45909', 'M1711', 'R079', 'R0602', 'Z1231',
        'Z1211', 'E559', 'D649', 'K5900', 'N390', 'R7303', 'L409', 'H2513', 'I2510', 'Z7984'
    ],
    [
        'M545', 'M5450', 'M25511', 'M25561', 'M542', 'M5412', 'M1711', 'M7918', 'S134XXA',
        'M6283', 'M47812', 'M75101', 'M7062', 'M2551', 'M7702'
    ],
    [
        'S0990XA', 'R079', 'R1084', 'S6290XA', 'T1490XA', 'R55', 'J069', 'R509', 'S8290XA',
        'W19XXXA', 'R51', 'N390', 'J189'
    ],
    ['M5416', 'M5417', 'M5126', 'M5127', 'M4806', 'M48062', 'M4316', 'M5136', 'M545'],
    ['F329', 'F419', 'F4310', 'F900', 'F330', 'F411', 'F4322']
];

-- ---------------------------------------------------------- professional claims
-- kind: 0 office, 1 radiology, 2 emergency, 3 therapy, 4 lumbar ESI (positional),
-- 5 DME, 6 ambulance, 7 surgery, 8 pathology/anesthesia, 9 behavioral,
-- 10 lumbar interlaminar ESI (positional)
create or replace macro gen_prof_kind(c) as gen_choose(
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 6, 7, 7, 8, 8, 9, 9,
        10, 0, 0, 0, 1
    ], c, 4
);

create or replace macro gen_prof_codes() as [
    [
        '99213', '99213', '99214', '99214', '99212', '99215', '99203', '99204', '36415', '80053',
        '85025', '83036', '80061', '84443', '93000', '90686', '90471', 'G0439', '99395', '99396',
        '81001', '82947', '87880', '96372', 'J1885'
    ],
    [
        '71046', '71045', '73030', '73562', '73721', '74177', '72148', '72100', '70450', '76700',
        '77067', '72070', '73110', '71250', '72040', '72141', '70551', '93306'
    ],
    ['99283', '99284', '99285', '36415', '71046', '93010', '85025', '96374'],
    ['97110', '97140', '97112', '97530', '97161', '98941', '98940', 'G0283', '97010', '97014'],
    ['64483', '64484', '77003', 'J1030'],
    ['E0601', 'A4253', 'E0114', 'A4604', 'K0001', 'E1390', 'A7030', 'L3908'],
    ['A0427', 'A0425', 'A0429'],
    ['20610', '11055', '17000', '45378', '43239', '66984', '29881', '52000', '20552', '64721'],
    ['88305', '88342', '00810', '88312'],
    ['90834', '90837', '90791', '99442', 'G2012'],
    ['62323', '77003', 'J3301']
];

create or replace macro gen_prof_positional(kind) as kind in (4, 10);

create or replace macro gen_prof_pos() as [
    ['11', '11', '11', '22', '02'], ['22', '11', '19'], ['23'], ['11'], ['24', '22', '11'],
    ['12'], ['41'], ['22', '24', '11'], ['81', '22'], ['11', '02', '10'], ['24', '22']
];

create or replace macro gen_prof_role() as
[
    'general', 'radiology', 'general', 'pt', 'esi', 'general', 'general', 'general', 'general',
    'general', 'esi'
];

create or replace macro gen_prof_dx_pool() as [1, 3, 3, 2, 4, 1, 3, 2, 1, 5, 4];

-- first modifier of a professional line
create or replace macro gen_prof_modifier(kind, code, side, x) as case
    when code in ('64483', '64484') then side
    when code = '77003' then '26'
    when kind = 1 and gen_pct(x, 30) < 70 then '26'
    when kind = 3 and code like '97%' and gen_pct(x, 30) < 60 then 'GP'
    when code in ('99213', '99214') and gen_pct(x, 30) < 10 then '25'
    when kind = 7 and gen_pct(x, 30) < 15 then gen_choose(['RT', 'LT', '59'], x, 31)
end;

-- ---------------------------------------------------------- institutional claims
-- kind: 0 outpatient hospital, 1 inpatient, 2 skilled nursing, 3 home health,
-- 4 ambulatory surgery, 5 outpatient therapy, 6 lumbar ESI facility (positional)
create or replace macro gen_inst_kind(c) as gen_choose([0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 0, 1], c, 5);

create or replace macro gen_inst_bill_type() as ['131', '111', '211', '329', '831', '131', '831'];

create or replace macro gen_inst_revenue() as [
    ['0300', '0301', '0320', '0450', '0250', '0636', '0510', '0352', '0730', '0610', '0272', '0260'],
    ['0120', '0250', '0300', '0301', '0360', '0410', '0730', '0270', '0320', '0636', '0200'],
    ['0120', '0420', '0430', '0250', '0300'],
    ['0551', '0421', '0431', '0571'],
    ['0360', '0250', '0370', '0710', '0636'],
    ['0420', '0424', '0430', '0440'],
    ['0360', '0360', '0320', '0636']
];

create or replace macro gen_inst_codes() as [
    ['85025', '80053', '71046', '99284', null, 'J1885', 'G0463', '74177', '93005', '70551', null, '96365'],
    [null, null, '85025', '80053', null, '94640', '93005', null, '71045', 'J2250', null],
    [null, '97110', '97530', null, '85025'],
    ['G0299', 'G0151', 'G0152', 'G0156'],
    ['29881', null, null, null, 'J2704'],
    ['97110', '97161', '97530', '92507'],
    ['64483', '64484', '77003', 'J1030']
];

create or replace macro gen_inst_dx_pool() as [1, 1, 1, 1, 2, 2, 4];

-- length of stay (claim end - claim start) by kind
create or replace macro gen_inst_los(kind, c) as case kind
    when 1 then 1 + cast(gen_pick(c, 6, 7) as integer)
    when 2 then 10 + cast(gen_pick(c, 6, 30) as integer)
    when 3 then 20 + cast(gen_pick(c, 6, 40) as integer)
    else 0
end;

-- ---------------------------------------------------------- block layout
-- Filler lines come in blocks of 8; a block's pattern cuts it into claims.
-- first[p][pos]: position of the first line of the claim holding line pos;
-- inst[p][pos]: 1 when that claim is institutional.
create or replace macro gen_block_first() as [
    [0, 1, 2, 2, 4, 5, 5, 5],
    [0, 0, 2, 3, 4, 4, 6, 6],
    [0, 0, 0, 0, 0, 5, 6, 6],
    [0, 1, 2, 3, 4, 5, 6, 7],
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 3, 3, 3, 3, 7],
    [0, 1, 1, 3, 4, 5, 6, 6],
    [0, 0, 0, 3, 4, 5, 6, 6]
];

create or replace macro gen_block_inst() as [
    [0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 1, 1, 1, 1, 1],
    [0, 0, 0, 1, 1, 1, 1, 0],
    [0, 0, 0, 0, 0, 0, 0, 0],
    [1, 1, 1, 0, 0, 0, 0, 0]
];

create or replace macro gen_block_pattern(i) as gen_pick(i // 8, 1, 8);

-- claim index of filler line i (the index of the claim's first line)
create or replace macro gen_filler_claim(i) as
(i // 8) * 8 + gen_block_first()[1 + gen_block_pattern(i)][1 + i % 8];

create or replace macro gen_filler_line_number(i) as
cast(i % 8 - gen_block_first()[1 + gen_block_pattern(i)][1 + i % 8] + 1 as integer);

create or replace macro gen_filler_is_inst(i) as
gen_block_inst()[1 + gen_block_pattern(i)][1 + i % 8] = 1;

-- Pharmacy claims: blocks of 4 lines.
create or replace macro gen_rx_block_first() as
[[0, 1, 2, 3], [0, 0, 2, 3], [0, 1, 1, 1], [0, 0, 2, 2], [0, 1, 2, 2]];

create or replace macro gen_rx_claim(i) as
(i // 4) * 4 + gen_rx_block_first()[1 + gen_pick(i // 4, 1, 5)][1 + i % 4];

create or replace macro gen_rx_line_number(i) as
cast(i % 4 - gen_rx_block_first()[1 + gen_pick(i // 4, 1, 5)][1 + i % 4] + 1 as integer);

-- ---------------------------------------------------------- planted defects
-- Filler rows come in strides of 500. In each, row 17 carries exactly one
-- blocking defect (the reasons take turns; a duplicate key also rejects row
-- 16, its first copy), rows 100, 200, 300 a warning-only oddity, and row 400
-- repeats the key of row 399 under the other data source (not a duplicate).
-- ESI persons have no filler rows, so no defect ever touches them.
create or replace macro gen_stride() as 500;

-- positions in a stride that can carry a planted defect or warning
create or replace macro gen_planted_positions() as [16, 17, 100, 200, 300];

create or replace macro gen_medical_reasons() as [
    'missing_claim_id', 'missing_person_id', 'missing_claim_line_number',
    'missing_service_date', 'invalid_date', 'malformed_hcpcs_code',
    'malformed_diagnosis_code', 'invalid_npi', 'duplicate_key'
];

create or replace macro gen_defect(i) as case
    when i % gen_stride() = 17 then gen_medical_reasons()[1 + (i // gen_stride()) % 9]
    when i % gen_stride() = 16 and (i // gen_stride()) % 9 = 8 then 'duplicate_key'
end;

-- which variant of the defect (bad value, column)
create or replace macro gen_defect_arg(i) as cast((i // gen_stride()) // 9 as integer);

create or replace macro gen_warning(i) as case i % gen_stride()
    when 100 then 'missing_rendering_npi'
    when 200 then 'claim_end_before_start'
    when 300 then 'paid_exceeds_allowed'
end;

-- line whose key (claim, line number, person) line i carries: the one before
-- for a planted duplicate (same source) or near-duplicate (other source)
create or replace macro gen_key_line(i) as case
    when i % gen_stride() = 17 and (i // gen_stride()) % 9 = 8 then i - 1
    when i % gen_stride() = 400 then i - 1
    else i
end;

create or replace macro gen_alt_source(i) as i % gen_stride() = 400;

create or replace macro gen_bad_hcpcs(a) as ['9921', 'ABCDEF', '992134', 'G04'][1 + a % 4];

create or replace macro gen_bad_dx(a) as ['M5$12', '12345', 'Z!00', '9999999'][1 + a % 4];

create or replace macro gen_bad_date(a) as ['2023-02-30', '20230230', '02/30/2023', '2024-13-01'][1 + a % 4];

create or replace macro gen_bad_ndc(a) as ['1234-5678', '00093ABC901', '123456789012', '0009-31-47'][1 + a % 4];
