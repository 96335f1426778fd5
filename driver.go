package e6data

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"os"
)

// DriverName is the name the driver is registered under with database/sql.
const DriverName = "e6data"

func init() { sql.Register(DriverName, &Driver{}) }

// Driver is the database/sql driver. sql.Open("e6data", dsn) uses it; it
// reads the environment (E6DATA_*) and then the DSN, which wins.
type Driver struct {
	ctr *Connector // the Connector this value came from (Connector.Driver), for ConnectorOf
}

// Open opens one connection with its own Connector, closed with the
// connection. Prefer sql.Open, which shares one Connector per *sql.DB.
func (d *Driver) Open(dsn string) (driver.Conn, error) {
	c, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	ctr := c.(*Connector)
	cn, err := ctr.Connect(context.Background())
	if err != nil {
		ctr.Close()
		return nil, err
	}
	cn.(*conn).ownsConnector = true
	return cn, nil
}

// OpenConnector parses dsn on top of the environment and returns a Connector.
func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	cfg, err := LoadConfig(dsn, os.Environ())
	if err != nil {
		return nil, err
	}
	return newConnector(cfg)
}

// OpenDB returns a *sql.DB on a new Connector with the pool settings of the
// configuration applied (max open, idle and lifetime limits) and the
// configured minimum of connections kept warm.
func OpenDB(cfg *Config, opts ...Option) (*sql.DB, error) {
	c, err := NewConnector(cfg, opts...)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	c.ConfigurePool(db)
	return db, nil
}
