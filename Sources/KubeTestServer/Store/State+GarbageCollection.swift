/// The garbage collector's decisions, taken under the store lock one work item at a time.
extension State {
    mutating func collectGarbage(_ work: GCWork, now: String) {
        switch work {
        case .ownerGone(let uid):
            for location in dependents(of: uid) {
                handleDependent(location, owner: uid, now: now)
            }
        case .foreground(let uid):
            guard let ownerLocation = uidIndex[uid],
                  let owner = objects[ownerLocation.groupResource]?[ownerLocation.key],
                  Self.finalizers(owner.json).contains("foregroundDeletion")
            else {
                foregroundOwners.remove(uid)
                return
            }
            for location in dependents(of: uid) {
                guard let dependent = objects[location.groupResource]?[location.key],
                      !Self.isDeleting(dependent.json)
                else { continue }
                handleDependent(location, owner: uid, now: now)
            }
            // The owner waits only for dependents that block its deletion.
            let blocked = dependents(of: uid).contains { location in
                guard let dependent = objects[location.groupResource]?[location.key] else { return false }
                return Self.ownerReferences(dependent.json).contains {
                    $0["uid"]?.stringValue == uid && $0["blockOwnerDeletion"]?.boolValue == true
                }
            }
            if blocked {
                foregroundOwners.insert(uid)
            } else {
                foregroundOwners.remove(uid)
                internalUpdate(ownerLocation) { json in
                    let remaining = Self.finalizers(json).filter { $0 != "foregroundDeletion" }
                    json.setValue(remaining.isEmpty ? nil : .array(remaining.map(TestJSON.string)),
                                  at: "metadata", "finalizers")
                }
            }
        }
    }

    /// A dependent with another live owner only loses references to owners that are gone; one without is deleted
    /// (in the background, so its own dependents follow).
    private mutating func handleDependent(_ location: ObjectLocation, owner uid: String, now: String) {
        guard let stored = objects[location.groupResource]?[location.key] else { return }
        let references = Self.ownerReferences(stored.json)
        let liveOthers = references.filter { reference in
            guard let other = reference["uid"]?.stringValue else { return false }
            return other != uid && uidIndex[other] != nil
        }
        if !liveOthers.isEmpty {
            let alive = references.filter { uidIndex[$0["uid"]?.stringValue ?? ""] != nil }
            guard alive.count < references.count else { return }
            internalUpdate(location) { json in
                json.setValue(.array(alive), at: "metadata", "ownerReferences")
            }
            return
        }
        guard let info = preferred[location.groupResource] else { return }
        deleteObject(info, location.key, stored, propagation: "Background", now: now)
    }
}
