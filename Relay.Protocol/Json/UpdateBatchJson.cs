using System.Text.Json;
using OpenAgents.Sync.V1;

namespace Relay.Protocol.Json;

/// <summary>JSON mapping of <see cref="UpdateBatch"/>.</summary>
internal static class UpdateBatchJson
{
    private static readonly JsonField _updates = Field(UpdateBatch.UpdatesFieldNumber);
    private static readonly JsonField _phase = Field(UpdateBatch.PhaseFieldNumber);
    private static readonly JsonField _caughtUpTopics = Field(UpdateBatch.CaughtUpTopicsFieldNumber);
    private static readonly JsonField _watermarks = Field(UpdateBatch.WatermarksFieldNumber);
    private static readonly JsonEnum _phases = new(UpdateBatch.Descriptor.FindFieldByNumber(UpdateBatch.PhaseFieldNumber).EnumType);

    public static void Write(Utf8JsonWriter writer, UpdateBatch batch)
    {
        writer.WriteStartObject();
        if (batch.Updates.Count > 0)
        {
            writer.WriteStartArray(_updates.Name);
            for (var i = 0; i < batch.Updates.Count; i++)
            {
                UpdateJson.Write(writer, batch.Updates[i]);
            }

            writer.WriteEndArray();
        }

        _phases.WriteField(writer, _phase, (int)batch.Phase);
        writer.WriteField(_caughtUpTopics, batch.CaughtUpTopics);
        writer.WriteField(_watermarks, batch.Watermarks);
        writer.WriteEndObject();
    }

    public static UpdateBatch Read(ref JsonCursor json)
    {
        var batch = new UpdateBatch();
        while (json.NextProperty())
        {
            if (json.Is(_updates))
            {
                ReadUpdates(ref json, batch);
            }
            else if (json.Is(_phase))
            {
                batch.Phase = (BatchPhase)json.Enum(_phase, _phases);
            }
            else if (json.Is(_caughtUpTopics))
            {
                json.Strings(_caughtUpTopics, batch.CaughtUpTopics);
            }
            else if (json.Is(_watermarks))
            {
                json.Int64Map(_watermarks, batch.Watermarks);
            }
            else
            {
                json.SkipValue();
            }
        }

        return batch;
    }

    private static void ReadUpdates(ref JsonCursor json, UpdateBatch batch)
    {
        if (!json.StartArray(_updates))
        {
            return;
        }

        while (json.NextElement())
        {
            json.ExpectObjectElement(_updates);
            batch.Updates.Add(UpdateJson.Read(ref json));
        }
    }

    private static JsonField Field(int number) => JsonField.Of(UpdateBatch.Descriptor, number);
}
