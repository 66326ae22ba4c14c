"""Reference for `gascli bench parquet`: pyarrow's write_table on the rows gascli wrote.

usage: parquet_write.py OURS.parquet OUT.parquet CODEC LEVEL ROW_GROUP_SIZE REPEATS

Reads gascli's file (untimed), then times pq.write_table of that table with the same codec,
compression level, dictionary columns, row group size and data page size, REPEATS times, and
checks that the written table equals the one read. Prints one JSON line.
"""
import json
import os
import sys
import time

import pyarrow as pa
import pyarrow.parquet as pq

ours, out, codec, level, row_group, repeats = sys.argv[1:7]
table = pq.read_table(ours)
dictionary = [f.name for f in pq.ParquetFile(ours).schema_arrow if f.name in ("dataset", "detector", "status")]
times, cpu = [], []
for _ in range(int(repeats)):
    start, start_cpu = time.perf_counter(), time.process_time()
    pq.write_table(table, out, compression=codec, compression_level=int(level), use_dictionary=dictionary,
                   row_group_size=int(row_group), data_page_size=1 << 20, write_statistics=True)
    times.append(time.perf_counter() - start)
    cpu.append(time.process_time() - start_cpu)
times.sort()
cpu.sort()
same = pq.read_table(out).equals(table)
print(json.dumps({"median_seconds": times[len(times) // 2], "median_cpu_seconds": cpu[len(cpu) // 2], "seconds": times, "bytes": os.path.getsize(out),
                  "rows": table.num_rows, "same_rows": same, "version": pa.__version__}))
