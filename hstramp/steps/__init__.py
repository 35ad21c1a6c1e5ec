"""stpipe steps, one module per calwf3 stage; each is thin over hstramp.core."""
