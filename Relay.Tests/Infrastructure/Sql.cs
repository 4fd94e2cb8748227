using Npgsql;

namespace Relay.Tests;

/// <summary>Small helpers for running SQL against the test database.</summary>
public static class Sql
{
    /// <summary>Runs a query and returns its first column of the first row.</summary>
    public static async Task<T?> ScalarAsync<T>(string sql, params object?[] parameters)
    {
        await using var command = Command(sql, parameters);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default : (T)value;
    }

    /// <summary>Runs a query and returns every row as an array of column values (DBNull as null).</summary>
    public static Task<List<object?[]>> RowsAsync(string sql, params object?[] parameters) =>
        RowsAsync(TestDatabase.DataSource, sql, parameters);

    /// <summary>Runs a query on <paramref name="dataSource"/> and returns every row as an array of column values (DBNull as null).</summary>
    public static async Task<List<object?[]>> RowsAsync(NpgsqlDataSource dataSource, string sql, params object?[] parameters)
    {
        await using var command = Command(dataSource, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            reader.GetValues(row!);
            rows.Add([.. row.Select(v => v is DBNull ? null : v)]);
        }
        return rows;
    }

    /// <summary>Runs a statement.</summary>
    public static async Task ExecuteAsync(string sql, params object?[] parameters)
    {
        await using var command = Command(sql, parameters);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Asserts that the statement fails with the given SQLSTATE and returns the error.</summary>
    public static async Task<PostgresException> FailsAsync(string sqlState, string sql, params object?[] parameters)
    {
        var error = (await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(sql, parameters)))!;
        Assert.That(error.SqlState, Is.EqualTo(sqlState), error.MessageText);
        return error;
    }

    private static NpgsqlCommand Command(string sql, object?[] parameters) => Command(TestDatabase.DataSource, sql, parameters);

    private static NpgsqlCommand Command(NpgsqlDataSource dataSource, string sql, object?[] parameters)
    {
        var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter ?? DBNull.Value });
        }
        return command;
    }
}
