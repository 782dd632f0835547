DROP TABLE save_points;
