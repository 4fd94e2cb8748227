namespace Relay.Protocol.Hashing;

/// <summary>
/// An object member being canonicalized: where its unescaped key and its canonical value lie in
/// a <see cref="ScratchBuffer"/>, and its position in the input, which orders duplicate keys.
/// </summary>
internal readonly record struct Member(int KeyStart, int KeyLength, int ValueStart, int ValueLength, int Index);
