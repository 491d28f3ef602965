{#- One row per user who may view (not edit) an observation. -#}

{{ root_array_items(
    source='stg_edreflect__observations__read_only_observers',
    root='stg_edreflect__observations',
    root_id='observation_id',
    key='read_only_observer_key',
    ids=['source.root_id as observation_id', 'source.value as user_id'],
) }}
