namespace Relay.Protocol;

/// <summary>What is wrong with an inbound frame. Every kind maps to <c>BAD_REQUEST</c>.</summary>
public enum ProtocolErrorKind
{
    /// <summary>The frame is not valid UTF-8. Fatal: the connection closes with 1002.</summary>
    InvalidUtf8,

    /// <summary>The binary frame is not a valid protobuf message (truncated, bad tag, bad length). Fatal.</summary>
    InvalidProtobuf,

    /// <summary>The text frame is not valid JSON. Fatal.</summary>
    InvalidJson,

    /// <summary>The frame's outer shape is wrong: not a JSON object, or for Phoenix not a five-element array. Fatal.</summary>
    InvalidFrame,

    /// <summary>A field holds a JSON value of the wrong type, e.g. a number where a string belongs.</summary>
    UnexpectedType,

    /// <summary>The envelope carries no message, or one this relay does not know.</summary>
    UnknownMessage,

    /// <summary>The JSON envelope sets more than one message of its <c>oneof</c>.</summary>
    MultipleMessages,

    /// <summary>The Phoenix frame's payload is not a JSON object.</summary>
    NonObjectPayload,

    /// <summary>The Phoenix frame names an event this relay does not handle.</summary>
    UnknownEvent,
}
