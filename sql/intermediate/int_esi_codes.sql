-- model: int_esi_codes
-- grain: one row per code of value set esi_cervical_thoracic
-- The per-code attributes the rules need (policy section 1 table), typed from
-- the reference file ref_esi_codes.csv (loaded as text):
--   kind                  interlaminar | transforaminal | catheter
--   is_addon              add-on code, folded into addon_primary_code on its claim
--   guidance              built_in (from guidance_built_in_from, NULL = always;
--                         before that date the code needs guidance billed apart) |
--                         separate (77003/77012 must be billed) | none | ultrasound
--   bundles_guidance_from a 77003/77012 line on the same day is unbundled from this date
--   level_group           interlaminar | transforaminal | NULL: which level rule counts it

with

esi_value_set as (
    select code
    from value_sets
    where value_set = 'esi_cervical_thoracic'
),

esi_attributes as (
    select
        code,
        kind,
        is_addon,
        addon_primary_code,
        guidance,
        guidance_built_in_from,
        bundles_guidance_from,
        level_group
    from ref_esi_codes
),

final as (
    -- keys first
    select  -- noqa: ST06
        esi_value_set.code as hcpcs_code,
        esi_attributes.kind,
        coalesce(cast(esi_attributes.is_addon as boolean), false) as is_addon,
        esi_attributes.addon_primary_code,
        esi_attributes.guidance,
        cast(esi_attributes.guidance_built_in_from as date) as guidance_built_in_from,
        cast(esi_attributes.bundles_guidance_from as date) as bundles_guidance_from,
        esi_attributes.level_group
    from esi_value_set
    left join esi_attributes
        on esi_value_set.code = esi_attributes.code
)

select * from final
