//go:build cgo

package engine

import (
	"context"

	"github.com/duckdb/duckdb-go/v2/mapping"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/e6go/e6data/internal/enginepb"
)

// GetCataloges lists the catalogs (DuckDB databases other than DuckDB's own
// system and temp); sample is the default.
func (e *Engine) GetCataloges(ctx context.Context, req *enginepb.GetCatalogesRequest) (*enginepb.GetCatalogesResponse, error) {
	if _, err := e.HealthCheck(ctx, nil); err != nil {
		return nil, err
	}
	names, err := e.catalogs(ctx)
	if err != nil {
		return nil, err
	}
	resp := &enginepb.GetCatalogesResponse{}
	for _, n := range names {
		resp.CatalogResponses = append(resp.CatalogResponses, &enginepb.CatalogResponse{Name: n, IsDefault: n == DefaultCatalog})
	}
	return resp, nil
}

func (e *Engine) catalogs(ctx context.Context) ([]string, error) {
	rows, err := e.text(ctx, "SELECT CAST(database_name AS VARCHAR) FROM duckdb_databases() WHERE NOT internal ORDER BY 1")
	if err != nil {
		return nil, err
	}
	return firstColumn(rows), nil
}

// text runs a catalog query (a SELECT) on a connection of its own.
func (e *Engine) text(ctx context.Context, sql string, args ...string) ([][]string, error) {
	cn, err := e.db.connect("", "", "")
	if err != nil {
		return nil, sqlStatus(err)
	}
	defer cn.release()
	rows, err := cn.queryText(ctx, sql, args...)
	return rows, sqlStatus(err)
}

func firstColumn(rows [][]string) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r[0])
	}
	return out
}

// checkCatalog returns the catalog to use (default when empty) or NOT_FOUND.
func (e *Engine) checkCatalog(ctx context.Context, catalog string) (string, error) {
	if catalog == "" {
		return DefaultCatalog, nil
	}
	// Identifiers are case-insensitive in DuckDB; answer with its spelling.
	rows, err := e.text(ctx, "SELECT CAST(database_name AS VARCHAR) FROM duckdb_databases() WHERE NOT internal AND lower(database_name) = lower(?)", catalog)
	if err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return "", status.Errorf(codes.NotFound, "catalog %q not found", truncate(catalog, 128))
	}
	return rows[0][0], nil
}

// GetSchemaNames lists the schemas of the default catalog.
func (e *Engine) GetSchemaNames(ctx context.Context, req *enginepb.GetSchemaNamesRequest) (*enginepb.GetSchemaNamesResponse, error) {
	return e.schemaNames(ctx, req.GetSessionId(), "")
}

// GetSchemaNamesV2 lists the schemas of a catalog.
func (e *Engine) GetSchemaNamesV2(ctx context.Context, req *enginepb.GetSchemaNamesV2Request) (*enginepb.GetSchemaNamesResponse, error) {
	return e.schemaNames(ctx, req.GetSessionId(), req.GetCatalog())
}

func (e *Engine) schemaNames(ctx context.Context, sessionID, catalog string) (*enginepb.GetSchemaNamesResponse, error) {
	if _, err := e.session(sessionID); err != nil {
		return nil, err
	}
	catalog, err := e.checkCatalog(ctx, catalog)
	if err != nil {
		return nil, err
	}
	rows, err := e.text(ctx, "SELECT CAST(schema_name AS VARCHAR) FROM information_schema.schemata WHERE catalog_name = ? ORDER BY 1", catalog)
	if err != nil {
		return nil, err
	}
	return &enginepb.GetSchemaNamesResponse{Schemas: firstColumn(rows), SessionId: sessionID}, nil
}

// GetTables lists the tables and views of a schema of the default catalog.
func (e *Engine) GetTables(ctx context.Context, req *enginepb.GetTablesRequest) (*enginepb.GetTablesResponse, error) {
	return e.tables(ctx, req.GetSessionId(), "", req.GetSchema())
}

// GetTablesV2 lists the tables and views of catalog.schema.
func (e *Engine) GetTablesV2(ctx context.Context, req *enginepb.GetTablesV2Request) (*enginepb.GetTablesResponse, error) {
	return e.tables(ctx, req.GetSessionId(), req.GetCatalog(), req.GetSchema())
}

func (e *Engine) tables(ctx context.Context, sessionID, catalog, schema string) (*enginepb.GetTablesResponse, error) {
	if _, err := e.session(sessionID); err != nil {
		return nil, err
	}
	catalog, err := e.checkCatalog(ctx, catalog)
	if err != nil {
		return nil, err
	}
	if schema == "" {
		schema = DefaultSchema
	}
	rows, err := e.text(ctx, "SELECT CAST(table_name AS VARCHAR) FROM information_schema.tables WHERE table_catalog = ? AND lower(table_schema) = lower(?) ORDER BY 1", catalog, schema)
	if err != nil {
		return nil, err
	}
	return &enginepb.GetTablesResponse{Tables: firstColumn(rows), SessionId: sessionID}, nil
}

// GetColumns lists a table's columns (default catalog).
func (e *Engine) GetColumns(ctx context.Context, req *enginepb.GetColumnsRequest) (*enginepb.GetColumnsResponse, error) {
	return e.columns(ctx, req.GetSessionId(), "", req.GetSchema(), req.GetTable())
}

// GetColumnsV2 lists the columns of catalog.schema.table with the vector
// type name each would get in a result.
func (e *Engine) GetColumnsV2(ctx context.Context, req *enginepb.GetColumnsV2Request) (*enginepb.GetColumnsResponse, error) {
	return e.columns(ctx, req.GetSessionId(), req.GetCatalog(), req.GetSchema(), req.GetTable())
}

func (e *Engine) columns(ctx context.Context, sessionID, catalog, schema, table string) (*enginepb.GetColumnsResponse, error) {
	if _, err := e.session(sessionID); err != nil {
		return nil, err
	}
	catalog, err := e.checkCatalog(ctx, catalog)
	if err != nil {
		return nil, err
	}
	if schema == "" {
		schema = DefaultSchema
	}
	if table == "" {
		return nil, status.Error(codes.InvalidArgument, "no table name given")
	}
	cn, err := e.db.connect("", "", "")
	if err != nil {
		return nil, sqlStatus(err)
	}
	defer cn.release() // only prepares
	defer cn.interruptOn(ctx)()
	sql := "SELECT * FROM " + quoteIdent(catalog) + "." + quoteIdent(schema) + "." + quoteIdent(table)
	var st mapping.PreparedStatement
	defer mapping.DestroyPrepare(&st)
	if mapping.Prepare(cn.c, sql, &st) == mapping.StateError {
		return nil, status.Errorf(codes.NotFound, "table %s.%s.%s: %s", catalog, schema, truncate(table, 128), mapping.PrepareError(st))
	}
	resp := &enginepb.GetColumnsResponse{SessionId: sessionID}
	for _, p := range preparedPlan(st) {
		resp.FieldInfo = append(resp.FieldInfo, &enginepb.GFieldInfo{FieldName: p.name, FieldType: p.wt.String()})
	}
	return resp, nil
}
