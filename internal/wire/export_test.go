package wire

// ZoneCacheLen reports how many zones Location has cached.
func ZoneCacheLen() int {
	zoneCache.mu.RLock()
	defer zoneCache.mu.RUnlock()
	return len(zoneCache.m)
}
