DROP TRIGGER vector_state_rewound;
DROP TRIGGER event_vectors_event_deleted;
DROP TRIGGER event_vectors_removed;
DROP TRIGGER event_vectors_added;
DROP TABLE vector_state;
DROP TABLE event_vectors;
