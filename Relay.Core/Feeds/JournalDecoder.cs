using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using Relay.Protocol.Hashing;
using Relay.Core.Journal;

namespace Relay.Core.Feeds;

/// <summary>
/// Turns pgoutput inserts into <c>relay.stream_events</c> (binary format) into immutable <see cref="JournalEvent"/>s,
/// copying every value: Npgsql reuses its message objects for the next message.
/// </summary>
internal sealed class JournalDecoder
{
    private enum Field { Other, Topic, Watermark, DocKey, DocVersion, OrgId, Payload, PayloadHash, Tombstone }

    private Field[] _fields = [];
    private uint _relationId;

    /// <summary>Learns the column order of the journal from its relation message.</summary>
    public void Learn(RelationMessage relation)
    {
        if (relation.Namespace != "relay" || relation.RelationName != "stream_events")
        {
            return;
        }
        _relationId = relation.RelationId;
        _fields = [.. relation.Columns.Select(column => column.ColumnName switch
        {
            "topic" => Field.Topic,
            "watermark" => Field.Watermark,
            "doc_key" => Field.DocKey,
            "doc_version" => Field.DocVersion,
            "org_id" => Field.OrgId,
            "payload" => Field.Payload,
            "payload_hash" => Field.PayloadHash,
            "tombstone" => Field.Tombstone,
            _ => Field.Other,
        })];
    }

    /// <summary>The journal event of an insert; null for an insert into another table.</summary>
    public async ValueTask<JournalEvent?> DecodeAsync(InsertMessage insert, DateTimeOffset committedAt, CancellationToken cancellationToken)
    {
        if (insert.Relation.RelationId != _relationId)
        {
            return null;
        }
        string topic = "", docKey = "";
        string? orgId = null;
        long watermark = 0, docVersion = 0;
        byte[]? payload = null, payloadHash = null;
        var tombstone = false;
        var index = 0;
        await foreach (var value in insert.NewRow.WithCancellation(cancellationToken))
        {
            var field = _fields[index++];
            if (value.IsDBNull || field == Field.Other)
            {
                continue;
            }
            switch (field)
            {
                case Field.Topic: topic = await value.Get<string>(cancellationToken); break;
                case Field.Watermark: watermark = await value.Get<long>(cancellationToken); break;
                case Field.DocKey: docKey = await value.Get<string>(cancellationToken); break;
                case Field.DocVersion: docVersion = await value.Get<long>(cancellationToken); break;
                case Field.OrgId: orgId = await value.Get<string>(cancellationToken); break;
                case Field.Payload: payload = await ReadJsonbAsync(value, cancellationToken); break;
                case Field.PayloadHash: payloadHash = await value.Get<byte[]>(cancellationToken); break;
                case Field.Tombstone: tombstone = await value.Get<bool>(cancellationToken); break;
            }
        }
        return new JournalEvent(topic, watermark, docKey, docVersion, orgId, payload, PayloadHash.OfStored(payloadHash, payload), tombstone, committedAt);
    }

    /// <summary>jsonb's binary format is a version byte (1) followed by the JSON text in UTF-8.</summary>
    private static async ValueTask<byte[]> ReadJsonbAsync(ReplicationValue value, CancellationToken cancellationToken)
    {
        await using var stream = value.GetStream();
        var version = stream.ReadByte();
        if (version != 1)
        {
            throw new InvalidDataException($"unsupported jsonb binary format version {version}");
        }
        var text = new byte[value.Length - 1];
        await stream.ReadExactlyAsync(text, cancellationToken);
        return text;
    }
}
