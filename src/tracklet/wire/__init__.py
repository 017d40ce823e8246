"""MLflow's REST protocol, shared by the server and the REST store: the endpoint table
(:mod:`~tracklet.wire.endpoints`), request decoding (:mod:`~tracklet.wire.decode`), the entity
codec (:mod:`~tracklet.wire.codec`) and error bodies (:mod:`~tracklet.wire.errors`). No I/O."""
